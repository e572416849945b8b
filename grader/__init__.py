"""grader: automated grading of ML coding exercises."""
