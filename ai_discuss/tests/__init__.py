from . import test_adversarial, test_discuss, test_discuss_tour
