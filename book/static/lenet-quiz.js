// The course's quizzes on the website, without a kernel: each quiz's static list (what a stored
// notebook shows) becomes the quiz learners use in JupyterLab, same questions, same feedback.
// The questions come from the Python banks (lenet_nb/quiz/), written into the page as JSON by
// `make book` (lenet_nb/course/book.py). The grading below is a port of lenet_nb/quiz/question.py
// (`grade`, `parse_number`) and of lenet_nb/quiz/widget.py (`response_feedback`); a test runs
// both on the same table of inputs (tests/course/test_book.py), so keep them in step.
(function (root) {
  "use strict";

  // ASCII digits and spaces only, like the Python side (re.ASCII, SPACES)
  var NUMBER = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
  var SEPARATOR = /[, _]/;
  var SEPARATORS = /[, _]/g;
  // Python's `(.*)$` takes no newline (`.`), and the stripped text never ends with one
  var GROUPED = /^([+-]?)([0-9]{1,3}(?:[, _][0-9]{3})+)(?![0-9])([^\n]*)$/;
  var SPACES = " \t\n\r\f\v";
  var NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

  function strip(text) {
    var start = 0, end = text.length;
    while (start < end && SPACES.indexOf(text.charAt(start)) >= 0) start++;
    while (end > start && SPACES.indexOf(text.charAt(end - 1)) >= 0) end--;
    return text.slice(start, end);
  }

  function rstrip(text) {
    var end = text.length;
    while (end > 0 && SPACES.indexOf(text.charAt(end - 1)) >= 0) end--;
    return text.slice(0, end);
  }

  function hex(code, width) {
    var s = code.toString(16);
    while (s.length < width) s = "0" + s;
    return s;
  }

  // Python's repr() of a str: the quote it picks, its escapes, printable characters as they are
  function pyRepr(text) {
    var quote = text.indexOf("'") >= 0 && text.indexOf('"') < 0 ? '"' : "'";
    var out = quote;
    for (var i = 0; i < text.length; i++) {
      var code = text.codePointAt(i), ch = String.fromCodePoint(code);
      if (code > 0xffff) i++;
      if (ch === quote || ch === "\\") out += "\\" + ch;
      else if (ch === "\t") out += "\\t";
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (code < 0x20 || code === 0x7f) out += "\\x" + hex(code, 2);
      else if (code < 0x7f || ch === " " || !NON_PRINTABLE.test(ch)) out += ch;
      else if (code <= 0xff) out += "\\x" + hex(code, 2);
      else if (code <= 0xffff) out += "\\u" + hex(code, 4);
      else out += "\\U" + hex(code, 8);
    }
    return out + quote;
  }

  function escapeHtml(text) {  // Python's html.escape(text, quote=True)
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  function ungroup(text, original) {
    if (!SEPARATOR.test(text)) return text;
    var m = GROUPED.exec(text);
    if (m === null || SEPARATOR.test(m[3])) {
      if (text.indexOf(",") >= 0) {  // "3,07" is a decimal comma, not 307
        var asIn = text.split(",").length === 2 && text.indexOf(".") < 0
          ? ", as in " + pyRepr(text.replace(",", ".")) : "";
        throw new Error("use a decimal point" + asIn + ": a comma may only separate " +
                        "thousands, as in 59,134 (got " + pyRepr(original) + ")");
      }
      throw new Error("type a number such as 12, 59134 or 95.8 (got " + pyRepr(original) + ")");
    }
    return m[1] + m[2].replace(SEPARATORS, "") + m[3];
  }

  function parseNumber(text) {
    var original = String(text);
    var cleaned = strip(original);
    if (cleaned.slice(-1) === "%") cleaned = rstrip(cleaned.slice(0, -1));
    if (!cleaned) throw new Error("type a number first, such as 12, 59134 or 95.8");
    cleaned = ungroup(cleaned, original);
    if (!NUMBER.test(cleaned)) {
      throw new Error("type a number such as 12, 59134 or 95.8 (got " + pyRepr(original) + ")");
    }
    return parseFloat(cleaned);
  }

  // q: {choices: [...] or null, answer, tolerance, explanation, hint, explanations}
  function grade(q, response) {
    if (q.choices === null) {
      var value = parseNumber(response);
      return Math.abs(value - q.answer) <= q.tolerance
        ? {correct: true, message: q.explanation} : {correct: false, message: q.hint};
    }
    if (response === null || response === undefined) {
      throw new Error("pick one of the choices first");
    }
    if (!(response >= 0 && response < q.choices.length)) {
      throw new Error("choice index must be in 0.." + (q.choices.length - 1) + ", got " +
                      response);
    }
    return {correct: response === q.answer, message: q.explanations[response]};
  }

  // [state, HTML] shown for one response, as lenet_nb.quiz.widget.response_feedback
  function responseFeedback(q, response) {
    var result;
    try {
      result = grade(q, response);
    } catch (err) {
      var text = err.message;
      return ["invalid", escapeHtml(text.charAt(0).toUpperCase() + text.slice(1)) + "."];
    }
    var verdict = result.correct ? ["Correct!", "#1a7f37"] : ["Not quite.", "#b35900"];
    return [result.correct ? "correct" : "wrong",
            '<b style="color: ' + verdict[1] + '">' + verdict[0] + "</b> " +
            escapeHtml(result.message)];
  }

  function scoreText(correct, total, checked) {
    return "Score: " + correct + " / " + total + " correct (" + checked + " checked)";
  }

  function element(tag, className, html) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function questionView(q, name, onChecked) {
    var box = element("div", "lenet-quiz-question lenet-quiz-q-" + q.key);
    box.appendChild(element("div", "lenet-quiz-prompt",
                            "<b>" + q.number + ".</b> " + escapeHtml(q.prompt)));
    var input;
    if (q.choices === null) {
      input = element("input", "lenet-quiz-number");
      input.type = "text";
      input.placeholder = "type a number";
    } else {
      input = element("div", "lenet-quiz-choices");
      q.choices.forEach(function (choice, j) {
        var label = element("label"), radio = element("input");
        radio.type = "radio";
        radio.name = name;
        radio.value = String(j);
        label.appendChild(radio);
        label.appendChild(document.createTextNode(" " + choice));
        input.appendChild(label);
      });
    }
    var check = element("button", "lenet-quiz-check", "Check");
    check.type = "button";
    var feedback = element("div", "lenet-quiz-feedback");
    check.addEventListener("click", function () {
      var response;
      if (q.choices === null) {
        response = input.value;
      } else {
        var chosen = input.querySelector("input:checked");
        response = chosen ? Number(chosen.value) : null;
      }
      var shown = responseFeedback(q, response);
      feedback.className = "lenet-quiz-feedback lenet-quiz-" + shown[0];
      feedback.innerHTML = shown[1];
      if (shown[0] !== "invalid") onChecked(q.key, shown[0] === "correct");
    });
    [input, check, feedback].forEach(function (node) { box.appendChild(node); });
    return box;
  }

  // Replace one quiz's static list by the working quiz (its questions and a score line).
  function mount(dataNode, index) {
    var data = JSON.parse(dataNode.textContent);
    var quiz = element("div", "lenet-quiz");
    var latest = {};
    var score = element("div", "lenet-quiz-score");
    function showScore() {
      var keys = Object.keys(latest);
      var right = keys.filter(function (k) { return latest[k]; }).length;
      score.innerHTML = "<b>" + scoreText(right, data.questions.length, keys.length) + "</b>";
    }
    data.questions.forEach(function (q) {
      quiz.appendChild(questionView(q, "lenet-quiz-" + index + "-" + q.key, function (key, ok) {
        latest[key] = ok;
        showScore();
      }));
    });
    showScore();
    quiz.appendChild(score);
    var list = dataNode.parentNode.querySelector(".lenet-quiz-static");
    if (list) list.replaceWith(quiz);
    else dataNode.parentNode.insertBefore(quiz, dataNode);
  }

  var api = {grade: grade, parseNumber: parseNumber, pyRepr: pyRepr,
             responseFeedback: responseFeedback, scoreText: scoreText};
  if (typeof module !== "undefined" && module.exports) module.exports = api;  // node, for tests
  if (typeof document !== "undefined") {
    root.lenetQuiz = api;
    var start = function () {
      document.querySelectorAll("script.lenet-quiz-data").forEach(mount);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})(typeof window !== "undefined" ? window : this);
