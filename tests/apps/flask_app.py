"""A small real Flask app: routes, JSON, form upload, streaming, cookies."""

from flask import Flask, Response, jsonify, request, url_for

app = Flask(__name__)


@app.get("/")
def index():
    return "flask says hi"


@app.post("/json")
def echo_json():
    data = request.get_json()
    return jsonify(received=data, method=request.method)


@app.post("/upload")
def upload():
    f = request.files["file"]
    content = f.read()
    return jsonify(name=f.filename, size=len(content), field=request.form.get("field"))


@app.get("/stream")
def stream():
    return Response((f"{i}\n" for i in range(5)), mimetype="text/plain")


@app.get("/cookie")
def cookie():
    resp = jsonify(seen=request.cookies.get("c"))
    resp.set_cookie("c", "set-by-flask")
    return resp


@app.get("/url")
def external_url():
    return url_for("index", _external=True)
