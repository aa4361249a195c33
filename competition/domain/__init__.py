"""Django-aware actions on the competition's data: publishing pages, recording evidence and
scores, and loading scoreboards. Views, imports and commands go through these."""
