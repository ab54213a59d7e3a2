"""Runner adapters for Beam runners that cannot run the job graph as they are."""
