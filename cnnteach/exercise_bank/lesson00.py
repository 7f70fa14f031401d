"""Lesson 00: one warm-up exercise that shows how checked exercises work."""

from cnnteach.exercises import exercise, expect_number


@exercise(
    "00.uint8-values",
    "How many different values can one uint8 pixel hold?",
    explanation="An unsigned 8-bit integer has 2**8 = 256 values, from 0 (black) to 255 (white).",
)
def _(answer):
    value = expect_number(answer, integer=True)
    if value == 255:
        return "255 is the largest value, but 0 is a value too: count from 0 to 255."
    if value == 8:
        return "8 is the number of bits; how many patterns can 8 bits make?"
    return None if value == 256 else "A uint8 has 8 bits, and each bit doubles the number of patterns."
