"""Merging customers: the side-by-side merge page and the merge history.

URL forms (names in the ``customers`` namespace):

- ``customers:merge`` — ``/customers/merge/?ids=12,34,56`` (2 to 10 customer ids, comma
  separated; the first id is the proposed survivor). ``reverse("customers:merge")`` plus the
  ``ids`` query. GET shows the records side by side, POST merges.
- ``customers:merge_detail`` — ``/customers/merges/<merge id>/``: one recorded merge.
- ``customers:merge_undo`` — ``/customers/merges/<merge id>/undo/`` (POST): undo it.
"""
