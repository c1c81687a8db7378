"""The chapters' lesson helpers: what each chapter needs beyond the library (experiments, tables,
widgets, pictures)."""
