"""Column buffers with spare rows, so that a face index grows without copying itself
(``phopy.faces.search.FaceIndex.extended``)."""
import threading

import numpy as np

# rows an index's buffers grow by at least (then an eighth of their size)
MIN_SPARE = 64


class GrowingRows:
    """Column buffers with spare rows, shared by an index and those extended from it.

    ``filled`` rows are written; only an index that reads all of them (the last one
    made) may write more, so the rows an older index reads never change under it.
    ``sorted_upto``: the face ids of that many first rows are ascending.
    """

    def __init__(self, filled, capacity):
        self.filled, self.capacity = filled, max(filled, capacity)
        self.sorted_upto = 0
        self.columns = {}
        self._lock = threading.Lock()

    def add(self, name, values):
        """A column holding ``values`` (the first rows) with room for ``capacity`` rows."""
        buffer = np.empty((self.capacity, *values.shape[1:]), dtype=values.dtype)
        buffer[:len(values)] = values
        self.columns[name] = buffer
        if name == "face_ids":
            self.sorted_upto = len(values) if bool(np.all(values[1:] > values[:-1])) else 0

    def add_if_last(self, n, columns):
        """Add columns of the first n rows if n rows are all that is written."""
        with self._lock:
            if self.filled != n:
                return False
            for name, values in columns.items():
                self.add(name, values)
            return True

    def claim(self, n, total):
        """Reserve rows n..total for the index reading the first n, if it is the last one
        made and they fit."""
        with self._lock:
            if self.filled != n or total > self.capacity:
                return False
            self.filled = total
            return True

    def grown(self, index, total):
        """New buffers for ``total`` rows and an eighth more, holding ``index``'s rows."""
        rows = GrowingRows(total, total + max(MIN_SPARE, total // 8))
        views = {"face_ids": index.face_ids, "photo_ids": index.photo_ids,
                 "encodings": index.encodings, "sq_norms": index.sq_norms}
        if index._prefilter is not None:
            views["projected"], views["projected_sq"] = index._prefilter[2:]
        for name, values in views.items():
            rows.add(name, values)
        rows.sorted_upto = len(index) if index.ids_sorted else 0
        return rows

    def write(self, n, columns, sorted_after):
        """Write the rows from n on (claimed or new); ``sorted_after``: they keep the
        face ids ascending."""
        for name, values in columns.items():
            self.columns[name][n:n + len(values)] = values
        if sorted_after and self.sorted_upto >= n:
            self.sorted_upto = n + len(columns["face_ids"])

    @property
    def nbytes(self):
        return sum(buffer.nbytes for buffer in self.columns.values())
