"""Exercise checks, one module per lesson, out of the learner's sight.

Each function takes a learner's answer (and what the exercise gives them), computes
the reference itself from independent data (its own seed, its own sizes, a library's
implementation), and returns `helper.check`'s verdict; in strict mode (the book build
and the tests) a wrong answer raises. The notebook shows only the call, so the answer
cell never holds the expected value, and a value printed earlier in the lesson does not
pass: the reference is computed after the answer, on data the learner has not seen.
"""
