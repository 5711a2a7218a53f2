"""The model description: what a fitted network holds, and its rules.

- ``attributes``: the one list of a model's attributes (name, type, shape
  rule, whether it lives on the device, saved or not), and the checks that
  ``skbp.load``, unpickling and moving read from it;
- ``arrays``: where arrays live (library, device, host copies);
- ``settings``: checks of the estimators' settings and inputs;
- ``moving``: a model's arrays to another library or device, and back;
- ``rollback``: snapshots of the fitted state (a failed fit leaves the
  model as it was);
- ``versioning``: the skbp version stamped on pickles;
- ``history``: the record of a streaming fit.

Below the data placements, the engine and the estimators; above
:mod:`skbp.core` only.
"""
