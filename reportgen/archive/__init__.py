"""Run folders: deterministic files, the manifest, atomic locked folders, finding, reading and verifying runs,
the PDF's embedded files, comparing runs and the trend over a series."""
