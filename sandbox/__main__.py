"""`python -m sandbox --scale 0.02 --seed 7 --out data/sandbox`."""

from sandbox.generate import main

main()
