"""Reading the landing folder into `raw`: file discovery, the file registry, format readers."""
