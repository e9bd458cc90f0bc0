"""The Flask app of the end-to-end benchmarks: `GET /json` (flask-json) and `POST /form` (flask-form).

What each view answers is in perf/frameworks/__init__.py, which e2e.py checks every server against.
"""

from flask import Flask, jsonify, request

from perf.frameworks import MESSAGE, form_summary

app = Flask(__name__)


@app.get("/json")
def json_view():
    return jsonify(MESSAGE)


@app.post("/form")
def form_view():
    return jsonify(form_summary(list(request.form.items(multi=True))))
