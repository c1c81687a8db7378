"""The quiz chapter in a real browser: a wrong and a right answer, their feedback and the score."""

import re

from lenet_nb.quiz.bank import BANKS


def test_quiz_gives_feedback_and_keeps_score(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "06_quizzes.ipynb")
    lab.run_all(page)
    total = len(BANKS["final"])

    wrong = page.locator(".lenet-quiz-q-boyu-lenet-wrong")
    wrong.locator(".lenet-quiz-choices input[type=radio]").nth(0).check()
    wrong.locator(".lenet-quiz-check").click()
    feedback = wrong.locator(".lenet-quiz-feedback")
    expect(feedback).to_have_class(re.compile(r"\blenet-quiz-wrong\b"))
    expect(feedback).to_contain_text("Not quite.")
    expect(feedback).to_contain_text("This one is true")
    section = page.locator(".lenet-quiz").filter(has=wrong)
    score = section.locator(".lenet-quiz-score")
    expect(score).to_have_text(f"Score: 0 / {total} correct (1 checked)")

    right = page.locator(".lenet-quiz-q-fc-share")
    right.locator(".lenet-quiz-number input").fill("95.8")
    right.locator(".lenet-quiz-number input").press("Enter")
    right.locator(".lenet-quiz-check").click()
    feedback = right.locator(".lenet-quiz-feedback")
    expect(feedback).to_have_class(re.compile(r"\blenet-quiz-correct\b"))
    expect(feedback).to_contain_text("Correct!")
    expect(feedback).to_contain_text("59,134 / 61,706")
    expect(score).to_have_text(f"Score: 1 / {total} correct (2 checked)")
    # the score line is one widget shown under every section: all copies agree
    expect(page.locator(".lenet-quiz-score").last).to_have_text(score.inner_text())

    section.scroll_into_view_if_needed()
    lab.screenshot(section, "quiz_feedback")
    assert lab.cell_errors(page) == []
