from . import test_delegation
