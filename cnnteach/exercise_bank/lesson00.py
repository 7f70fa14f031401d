"""Lesson 00: one warm-up exercise that shows how checked exercises work."""

from cnnteach.exercises import number_exercise

number_exercise(
    "00.uint8-values",
    256,
    integer=True,
    hints={
        255: "255 is the largest value, but 0 is a value too: count from 0 to 255.",
        8: "8 is the number of bits; how many patterns can 8 bits make?",
    },
    otherwise="A uint8 has 8 bits, and each bit doubles the number of patterns.",
    explanation="An unsigned 8-bit integer has 2**8 = 256 values, from 0 to 255.",
)
