"""举证助手 (juzheng): after-sale evidence checklists, a sorted evidence folder and deadlines."""

__version__ = "0.1.0"
API_VERSION = 1
