"""cnnteach: helpers for a lesson series that teaches convolutional neural networks on MNIST.

Importing the package is light and has no side effects: TensorFlow and Keras are imported
only inside the functions that need them (``tests/test_imports.py`` checks every module).

Modules (one idea each; CONTRIBUTING.md has the full table)
-------
data, idx, install  load_mnist, read_idx, DataError: offline-safe, verified MNIST; installs
doctor              environment checks shared by lesson 00 and ``cnnteach doctor``
exercises, _answers check, solution, list_exercises; declarative, fair checkers
student             the student edition of the lessons (solutions removed, edits kept)
notebook_io         notebook JSON read, written and searched in one place
plots               figures of digits, pixels, labels and probabilities (lessons 00-03)
arithmetic          output sizes, parameter counts, receptive fields
ops                 numpy reference layers: conv2d (loop and vectorised), pooling, relu, flatten
steps, explorers    one conv/pool step as data; its figure and widget (lessons 05-06)
layer_figures       kernel responses and flattening figures
models              the networks: 2019, lesson, background, detection backbone, one-stage
training, callbacks Recipe, RECIPES, train; epoch_log, step_clock, quiet_retracing
storage             saving and loading trained models safely
evaluation          architecture, learning-curve and confusion-matrix figures; drawn digits
inspection          filters, feature maps, occlusion and saliency maps (lesson 10)
canvases, detect    canvases of digits; sliding windows and the window detector (lesson 12)
boxes, scoring, coco  box maths, VOC and COCO metrics in numpy (lessons 12-15)
one_stage           anchors, loss and decoding of the one-stage detector (lesson 13)
rcnn, roi, two_stage, two_stage_training  R-CNN to Faster R-CNN (lesson 14)
drawing_pad         the drawing pad widget (lesson 09)
grading, grade_report  ``cnnteach grade`` and its CSV and HTML report
"""

__version__ = "0.1.0"
