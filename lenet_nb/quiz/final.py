"""The final quiz (chapter 5): each chapter's final-quiz topics, in the order of the course."""

from lenet_nb.quiz import fc_limits, lenet5_paper, shapes, training

FINAL = (shapes.FINAL_PARAMETERS + fc_limits.FINAL_CONVOLUTIONS + shapes.FINAL_SHAPES
         + training.FINAL_TRAINING + lenet5_paper.FINAL_PAPER)
