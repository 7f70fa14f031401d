"""cnnteach: helpers for a lesson series that teaches convolutional neural networks on MNIST.

Importing the package is light and has no side effects: TensorFlow and Keras are imported
only inside the functions that need them (see ``tests/test_imports.py``).

Modules
-------
data        load_mnist, read_idx, DataError: offline-safe, verified MNIST
doctor      environment checks shared by lesson 00 and ``cnnteach doctor``
exercises   check, solution, list_exercises: instant feedback on lesson exercises
student     build the student edition of the lessons (solutions removed)
plots       figures used by the lessons
"""

__version__ = "0.1.0"
