"""wastelink: industrial-waste permits, e-manifests and transport tracking for Thailand's industrial estates."""

__version__ = "0.1.0"
