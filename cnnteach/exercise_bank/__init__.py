"""Exercise definitions, one module per lesson (``lesson01.py`` ...).

Each module registers its checkers with :func:`cnnteach.exercises.exercise`. The modules
are imported only when :func:`cnnteach.exercises.check` or ``list_exercises`` first runs,
and must not import TensorFlow at module level.
"""
