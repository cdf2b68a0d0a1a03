"""A corpus of public data sets held as companies hold them, the goals users would write on
them, and the benchmark of the product against standard learners on the same rows
(``make bench-corpus``; bench/corpus/README.md)."""
