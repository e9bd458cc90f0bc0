"""`python -m corn` runs the same command as the `corn` console script.

Plane: control.
"""

from corn.cli import main

if __name__ == "__main__":
    main()
