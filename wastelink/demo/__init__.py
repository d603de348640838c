"""The deterministic demo data set (same seed → same data), loaded through the platform's own services."""
