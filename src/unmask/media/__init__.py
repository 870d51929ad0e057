"""State-affiliated media: the bundled list, amplification shares and proxy-site discovery."""
