"""The ``workbench`` console command."""
