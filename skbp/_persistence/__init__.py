"""Model files: :func:`skbp.save` and :func:`skbp.load`.

- ``model_file``: save and load, checked against the model description
  (:mod:`skbp._model.attributes`);
- ``document``: the JSON document of settings and fitted values;
- ``archive``: the zip of arrays, read within budgets;
- ``atomic``: writing a file so that a reader never sees half of it.

The top layer below the public modules: it builds the estimators.
"""
