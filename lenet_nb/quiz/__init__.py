"""The quizzes: the question type, the widget, one bank per chapter and the final quiz."""
