"""The learner's course pages: catalog, course outline, items, lecture media, interviews, progress."""
