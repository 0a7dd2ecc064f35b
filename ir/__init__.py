"""IR infrastructure shared above the dialects: reading and verifying IR text with source
locations (`io`) and located errors (`diagnostics`)."""
