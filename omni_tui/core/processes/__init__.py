"""Process backends behind one interface: devenv native, process-compose, psutil scan."""
