"""RecBot's vocabulary and rules: pure Python that imports nothing else of the project's."""
