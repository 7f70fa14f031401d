"""cnnteach: helpers for a lesson series that teaches convolutional neural networks on MNIST.

Importing the package is light and has no side effects: TensorFlow and Keras are imported
only inside the functions that need them (see ``tests/test_imports.py``).

Modules
-------
data        load_mnist, read_idx, DataError: offline-safe, verified MNIST
doctor      environment checks shared by lesson 00 and ``cnnteach doctor``
exercises   check, solution, list_exercises: instant feedback on lesson exercises
student     build the student edition of the lessons (solutions removed)
plots       figures of digits, pixels, labels and probabilities (lessons 00-03)
arithmetic  output sizes and parameter counts of conv, pooling and dense layers, explained
ops         numpy reference layers: conv2d (loop and vectorised), pooling, relu, flatten
explorers   the convolution and pooling explorers of lessons 05-06, and their static figures
models      the 2019 model, the lesson model, their training recipes, saving and loading
evaluation  architecture, learning-curve and confusion-matrix figures; preparing a drawn digit
inspection  filters, feature maps, occlusion and saliency maps (lesson 10)
detect      canvases, sliding windows, IoU, NMS, average precision, a digit detector (lesson 12)
"""

__version__ = "0.1.0"
