"""The final quiz (chapter 6): each chapter's final-quiz topics, in the order of the course."""

from lenet_nb.quiz import fc_limits, lenet5_paper, recipes, shapes, training_loop

FINAL = (shapes.FINAL_PARAMETERS + fc_limits.FINAL_CONVOLUTIONS + shapes.FINAL_SHAPES
         + training_loop.FINAL_LOOP + recipes.FINAL_RECIPES + lenet5_paper.FINAL_PAPER)
