#!/usr/bin/env python3
"""Browser test of the voxgan viewer (Public/): starts voxgan-serve on 127.0.0.1 (port 0),
drives Debian's Chromium headless through Selenium and checks what a person would see.

    python3 Tests/browser/test_viewer.py [--server PATH] [--weights H5] [--screenshot PNG]

The model: --weights, else $VOXGAN_WEIGHTS, else the bundled Models/chairs32.h5; when none
exists (before the trained model lands) the server's --synthetic model, said on stdout.
WebGL runs on SwiftShader (software), so the timings printed are a CPU's, not a GPU's; none
of them is asserted. All traffic stays on 127.0.0.1. The last line is
`browser: N passed, M failed`; the exit status is 1 when any test failed.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLE_64 = os.path.join(ROOT, "..", "shared", "data", "sample",
                         "shapenet_64__1a6f615e8b1b5ae4dbbc9440457e303e.binvox")

# Pixels of the chair: the material is a warm orange, so red clearly above blue; the
# background (#e9ecf1), the floor grid and the overlay are all grey or bluish.
PIXEL_PROBE = """
const source = document.getElementById('canvas');
const probe = document.createElement('canvas');
probe.width = 96; probe.height = 96;
const context = probe.getContext('2d');
context.drawImage(source, 0, 0, 96, 96);
const data = context.getImageData(0, 0, 96, 96).data;
let chair = 0; const mask = [];
for (let i = 0; i < data.length; i += 4) {
  const warm = data[i] - data[i + 2] > 30;
  if (warm) chair++;
  mask.push(warm ? 1 : 0);
}
return {chair, mask: mask.join('')};
"""


# -------------------------------------------------------------------------------------------
# Server and browser

def pick_model(weights):
    """The server's model options and a description of the choice."""
    weights = weights or os.environ.get("VOXGAN_WEIGHTS")
    if weights:
        return ["--weights", weights], weights
    bundled = os.path.join(ROOT, "Models", "chairs32.h5")
    if os.path.exists(bundled):
        return ["--weights", bundled], bundled
    return ["--synthetic"], "--synthetic (Models/chairs32.h5 is not there yet)"


class Server:
    """voxgan-serve on 127.0.0.1 with a free port; output in a log file; stopped by PID."""

    def __init__(self, binary, model_arguments, workdir):
        self.log_path = os.path.join(workdir, "server.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--threads", "2",
             "--public", os.path.join(ROOT, "Public")] + model_arguments,
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.port = None
        deadline = time.time() + 120
        while time.time() < deadline:
            text = open(self.log_path, encoding="utf-8", errors="replace").read()
            if self.port is None and "listening on http://127.0.0.1:" in text:
                tail = text.split("listening on http://127.0.0.1:", 1)[1]
                self.port = int("".join(ch for ch in tail[:6] if ch.isdigit()))
            if self.port is not None and "voxgan-serve: ready" in text:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"voxgan-serve exited with {self.process.returncode}:\n{text}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("voxgan-serve did not get ready within 120 s")

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def chromium_driver(width=1280, height=1000, phone=False):
    options = webdriver.ChromeOptions()
    if phone:
        # A phone's viewport and touch; a desktop window cannot be made this narrow.
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "touch": True}})
    binary = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
    if not os.path.exists(binary):
        binary = "/usr/bin/chromium"
    options.binary_location = binary
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
                 "--ignore-gpu-blocklist", f"--window-size={width},{height}",
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--metrics-recording-only", "--no-pings"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(180)
    return driver


# -------------------------------------------------------------------------------------------
# Helpers

def write_binvox(path, dims, occupied):
    """Writes a .binvox of extents (nx, nz, ny) as the header gives them; `occupied(x, z, y)`."""
    nx, nz, ny = dims
    runs = bytearray()
    value, count = None, 0
    for x in range(nx):
        for z in range(nz):
            for y in range(ny):
                v = 1 if occupied(x, z, y) else 0
                if v == value and count < 255:
                    count += 1
                else:
                    if value is not None:
                        runs += bytes([value, count])
                    value, count = v, 1
    runs += bytes([value, count])
    with open(path, "wb") as f:
        f.write(f"#binvox 1\ndim {nx} {nz} {ny}\ntranslate 0 0 0\nscale 1\ndata\n".encode())
        f.write(bytes(runs))


def binvox_count(path):
    data = open(path, "rb").read()
    payload = data[data.index(b"data\n") + 5:]
    return sum(payload[i + 1] for i in range(0, len(payload), 2) if payload[i])


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, dict(response.headers), response.read()


class Page:
    """The viewer in one browser window."""

    def __init__(self, driver, base):
        self.driver = driver
        self.base = base

    def open(self, path="/"):
        self.driver.get(self.base + path)
        self.driver.execute_async_script(
            "const done = arguments[0];"
            "const wait = () => window.voxgan ? window.voxgan.ready.then(() => done(true))"
            "                                 : setTimeout(wait, 50);"
            "wait();")

    def element(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def stats(self):
        return self.driver.execute_script(
            "return window.voxgan.state.stats && JSON.parse(JSON.stringify("
            "window.voxgan.state.stats));")

    def wait_for(self, condition, what, timeout=90):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(
                lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                 f"status: {self.element('status').text!r}; "
                                 f"message: {self.element('message').text!r}")

    def wait_for_source(self, label, mesh=None, timeout=90):
        """Waits until the chair named `label` (e.g. 'seed 2') is displayed."""
        def shown():
            stats = self.stats()
            busy = self.driver.execute_script(
                "return document.getElementById('overlay').classList.contains('busy')"
                " && !document.getElementById('overlay').hidden")
            return (stats and stats["source"] == label and not busy
                    and (mesh is None or stats["mesh"] == mesh) and stats)
        return self.wait_for(shown, f"'{label}' to be displayed", timeout)

    def pixels(self):
        return self.driver.execute_script(PIXEL_PROBE)

    def show_seed(self, text):
        field = self.element("seed")
        field.clear()
        field.send_keys(text)
        self.element("show").click()

    def console_errors(self):
        return [entry for entry in self.driver.get_log("browser")
                if entry.get("level") == "SEVERE"]


# -------------------------------------------------------------------------------------------
# Tests: each takes the context and raises AssertionError with a readable reason.

def test_page_loads_without_console_errors(ctx):
    page = ctx.page
    page.open("/")
    stats = page.wait_for_source("seed 1")
    errors = page.console_errors()
    assert not errors, f"console errors on load: {errors}"
    summary = page.element("model-summary").text
    assert "chairs" in summary and "latent" in summary, f"model summary is {summary!r}"
    info = page.element("model-info").text
    assert "recommended threshold" in info, f"model metadata missing: {info!r}"
    ctx.first_stats = stats


def test_threshold_default_is_models_recommendation(ctx):
    status, _, body = fetch(ctx.server.base + "/v1/model")
    recommended = json.loads(body)["recommended_threshold"]
    slider = float(ctx.page.element("threshold").get_attribute("value"))
    assert abs(slider - recommended) < 1e-6, (
        f"slider starts at {slider}, the model recommends {recommended}")


def test_canvas_shows_a_chair(ctx):
    page = ctx.page
    page.wait_for_source("seed 1")
    probe = page.pixels()
    stats = page.stats()
    assert stats["occupied"] > 0, f"seed 1 has no voxels at the default threshold: {stats}"
    assert probe["chair"] > 150, (
        f"only {probe['chair']} of 9216 probe pixels show the chair ({stats})")
    ctx.first_pixels = probe
    print(f"    seed 1: {stats['occupied']} voxels, {stats['triangles']} triangles, "
          f"{probe['chair']} / 9216 chair pixels")


def test_new_seed_changes_the_picture(ctx):
    page = ctx.page
    page.show_seed("2")
    page.wait_for_source("seed 2")
    after = page.pixels()
    changed = sum(a != b for a, b in zip(ctx.first_pixels["mask"], after["mask"]))
    assert after["chair"] > 150, f"seed 2 shows only {after['chair']} chair pixels"
    assert changed > 30, f"seed 2 differs from seed 1 in only {changed} probe pixels"
    page.element("random").click()
    page.wait_for(lambda: (page.stats() or {}).get("source") not in ("seed 2", None)
                  and page.stats()["source"].startswith("seed "), "a random seed")
    print(f"    seed 1 → 2: {changed} probe pixels changed; random gave "
          f"{page.stats()['source']}")


def test_download_links_return_valid_files(ctx):
    page = ctx.page
    page.show_seed("3")
    page.wait_for_source("seed 3")
    links = {fmt: page.element(f"download-{fmt}").get_attribute("href")
             for fmt in ("binvox", "obj", "stl", "png")}
    threshold = page.element("threshold").get_attribute("value")
    for fmt, href in links.items():
        assert href.startswith(ctx.server.base + "/v1/sample?"), f"{fmt} link is {href}"
        assert "seed=3" in href and f"format={fmt}" in href, f"{fmt} link is {href}"
    status, _, body = fetch(links["binvox"])
    assert body.startswith(b"#binvox 1\n"), f"binvox download starts {body[:20]!r}"
    header = body[:body.index(b"data\n")].decode()
    assert "dim " in header, f"binvox header {header!r}"
    payload = body[body.index(b"data\n") + 5:]
    occupied = sum(payload[i + 1] for i in range(0, len(payload), 2) if payload[i])
    assert occupied == page.stats()["occupied"], (
        f"download has {occupied} voxels, the view {page.stats()['occupied']}")
    _, _, obj = fetch(links["obj"])
    lines = obj.decode().splitlines()
    assert any(l.startswith("v ") for l in lines) and any(l.startswith("f ") for l in lines), \
        "OBJ download has no v/f lines"
    _, _, stl = fetch(links["stl"])
    triangles = int.from_bytes(stl[80:84], "little")
    assert len(stl) == 84 + 50 * triangles, f"STL of {len(stl)} bytes, {triangles} triangles"
    _, headers, png = fetch(links["png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "PNG download lacks the PNG signature"
    print(f"    threshold {threshold}: binvox {len(body)} B ({occupied} voxels), OBJ "
          f"{len(obj)} B, STL {triangles} triangles, PNG {len(png)} B")


def test_server_error_shows_a_message(ctx):
    page = ctx.page
    page.show_seed("abc")
    page.wait_for(lambda: page.element("message").is_displayed(), "the error message")
    text = page.element("message").text
    assert "400" in text and "seed" in text, f"message reads {text!r}"
    # The failed request is the only console error it may leave.
    errors = [e for e in page.console_errors() if "status of 400" not in e["message"]]
    assert not errors, f"unexpected console errors: {errors}"
    print(f"    message: {text.splitlines()[0]!r}")


def test_smooth_mesh_and_largest_part(ctx):
    page = ctx.page
    page.show_seed("4")
    page.wait_for_source("seed 4")
    page.driver.find_element(By.CSS_SELECTOR, "input[name=mesh][value=smooth]").click()
    stats = page.wait_for_source("seed 4", mesh="smooth")
    assert stats["triangles"] > 0 and page.pixels()["chair"] > 100, f"smooth: {stats}"
    page.driver.find_element(By.CSS_SELECTOR, "input[name=mesh][value=cubes]").click()
    page.wait_for_source("seed 4", mesh="cubes")
    all_voxels = page.stats()["occupied"]
    page.element("largest").click()
    page.wait_for(lambda: page.stats()["occupied"] <= all_voxels
                  and page.element("download-binvox").get_attribute("href")
                  .find("largest_component=true") > 0, "the largest part")
    page.wait_for_source("seed 4")
    kept = page.stats()["occupied"]
    assert 0 < kept <= all_voxels, f"largest part keeps {kept} of {all_voxels}"
    page.element("largest").click()
    page.wait_for_source("seed 4")
    print(f"    smooth: {stats['triangles']} triangles; largest part {kept} of {all_voxels}")


def test_gallery_and_interpolation(ctx):
    page = ctx.page
    page.wait_for(lambda: page.driver.execute_script(
        "return [...document.querySelectorAll('#gallery img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"), "gallery thumbnails")
    thumbs = page.driver.find_elements(By.CSS_SELECTOR, "#gallery .thumb")
    assert len(thumbs) >= 8, f"gallery has {len(thumbs)} thumbnails"
    thumbs[5].click()
    page.wait_for_source("seed 5")
    page.wait_for(lambda: page.driver.execute_script(
        "const s = document.getElementById('strip'); return s.complete && s.naturalWidth > 0"),
        "the interpolation strip")
    strip = page.element("strip")
    # The middle of the fourth of eight cells: a latent on the path, not a seed.
    page.driver.execute_script(
        "const s = arguments[0]; const r = s.getBoundingClientRect();"
        "s.dispatchEvent(new MouseEvent('click', {bubbles: true,"
        " clientX: r.left + r.width * 3.5 / 8, clientY: r.top + r.height / 2}));", strip)
    stats = page.wait_for(lambda: (page.stats() or {}).get("source", "").startswith("step 3 ")
                          and page.stats(), "the interpolated chair")
    assert stats["source"] == "step 3 of 7 from seed 1 to 2", stats["source"]
    page.wait_for(lambda: page.element("overlay").get_attribute("hidden") is not None
                  or "Empty" in page.element("overlay").text, "the interpolated chair's mesh")
    print(f"    gallery: {len(thumbs)} thumbnails; strip cell 3: {stats['occupied']} voxels")


def test_own_binvox_files(ctx):
    page = ctx.page
    upload = page.element("file")

    # A real ShapeNet chair at 64³.
    if os.path.exists(SAMPLE_64):
        upload.send_keys(os.path.abspath(SAMPLE_64))
        name = os.path.basename(SAMPLE_64)
        stats = page.wait_for_source(name)
        expected = binvox_count(SAMPLE_64)
        assert stats["occupied"] == expected, f"{name}: {stats['occupied']} vs {expected}"
        assert page.pixels()["chair"] > 150, f"{name} is not visible"
        ctx.shots["sample64"] = page.driver.get_screenshot_as_png()
        # Smooth goes through POST /v1/convert with the file as the body.
        page.driver.find_element(By.CSS_SELECTOR, "input[name=mesh][value=smooth]").click()
        smooth = page.wait_for_source(name, mesh="smooth")
        assert smooth["triangles"] > 0 and page.pixels()["chair"] > 150, f"smooth: {smooth}"
        page.driver.find_element(By.CSS_SELECTOR, "input[name=mesh][value=cubes]").click()
        page.wait_for_source(name, mesh="cubes")
        print(f"    {name}: {expected} voxels, {stats['triangles']} triangles, "
              f"meshed in {stats['meshMs']:.0f} ms; smooth (server) {smooth['triangles']}")

    # Half-full 64³ grids: a solid lower half (few merged faces) and random noise (the worst
    # case: about 400 k exposed faces).
    solid = os.path.join(ctx.workdir, "half-solid-64.binvox")
    write_binvox(solid, (64, 64, 64), lambda x, z, y: y < 32)
    rng = random.Random(7)
    bits = [rng.random() < 0.5 for _ in range(64 ** 3)]
    noisy = os.path.join(ctx.workdir, "half-random-64.binvox")
    write_binvox(noisy, (64, 64, 64), lambda x, z, y: bits[x * 4096 + z * 64 + y])
    for path in (solid, noisy):
        upload.send_keys(path)
        name = os.path.basename(path)
        stats = page.wait_for_source(name, timeout=180)
        expected = binvox_count(path)
        assert stats["occupied"] == expected, f"{name}: {stats['occupied']} vs {expected}"
        assert page.pixels()["chair"] > 150, f"{name} is not visible"
        # Few frames: SwiftShader draws the noisy grid's half a million triangles in seconds.
        frame_ms = page.driver.execute_script(
            f"return window.voxgan.spin({8 if path == solid else 2})")
        heap = page.driver.execute_script(
            "return performance.memory ? performance.memory.usedJSHeapSize : 0")
        errors = [e for e in page.console_errors() if "status of 400" not in e["message"]]
        assert not errors, f"console errors with {name}: {errors}"
        print(f"    {name}: {expected} voxels, {stats['triangles']} triangles, meshed in "
              f"{stats['meshMs']:.0f} ms, {frame_ms:.0f} ms/frame on SwiftShader, "
              f"JS heap {heap / 2 ** 20:.0f} MiB")

    # Drag and drop: a 2×2×2 file with a comment line, dropped on the view.
    page.driver.execute_script("""
        const bytes = new Uint8Array([...new TextEncoder().encode(
            '#binvox 1\\n# made by the test\\ndim 2 2 2\\ndata\\n'), 1, 3, 0, 5]);
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.binvox'));
        const target = document.getElementById('viewport');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,
                                                    dataTransfer: transfer}));
        }""")
    dropped = page.wait_for_source("dropped.binvox")
    assert dropped["occupied"] == 3 and dropped["resolution"] == [2, 2, 2], f"dropped: {dropped}"
    assert page.element("drop-hint").get_attribute("hidden") is not None, "drop hint stays up"

    # An empty grid says so; a broken file names itself and the problem.
    empty = os.path.join(ctx.workdir, "empty-32.binvox")
    write_binvox(empty, (32, 32, 32), lambda x, z, y: False)
    upload.send_keys(empty)
    page.wait_for_source("empty-32.binvox")
    overlay = page.element("overlay").text
    assert "empty" in overlay.lower(), f"empty grid overlay reads {overlay!r}"
    broken = os.path.join(ctx.workdir, "broken.binvox")
    with open(broken, "wb") as f:
        f.write(b"#binvox 1\ndim 4 4 4\ndata\n\x01\x05")
    upload.send_keys(broken)
    page.wait_for(lambda: page.element("message").is_displayed(), "the broken-file message")
    text = page.element("message").text
    assert "broken.binvox" in text and "64" in text, f"broken-file message reads {text!r}"


def test_phone_width(ctx):
    driver = chromium_driver(390, 844, phone=True)
    try:
        page = Page(driver, ctx.server.base)
        page.open("/")
        page.wait_for_source("seed 1")
        layout = driver.execute_script(
            "const v = document.getElementById('viewport').getBoundingClientRect();"
            "const c = document.querySelector('.controls').getBoundingClientRect();"
            "return {viewportBottom: v.bottom, controlsTop: c.top, viewportWidth: v.width,"
            " scroll: document.documentElement.scrollWidth,"
            " client: document.documentElement.clientWidth};")
        assert layout["controlsTop"] >= layout["viewportBottom"], f"controls beside: {layout}"
        assert layout["scroll"] <= layout["client"] + 1, f"page scrolls sideways: {layout}"
        assert page.pixels()["chair"] > 100, "no chair at phone width"
        errors = page.console_errors()
        assert not errors, f"console errors at phone width: {errors}"
        ctx.shots["phone"] = driver.get_screenshot_as_png()
        print(f"    390 px: canvas {layout['viewportWidth']:.0f} px wide, controls below it")
    finally:
        driver.quit()


TESTS = [
    test_page_loads_without_console_errors,
    test_threshold_default_is_models_recommendation,
    test_canvas_shows_a_chair,
    test_new_seed_changes_the_picture,
    test_download_links_return_valid_files,
    test_server_error_shows_a_message,
    test_smooth_mesh_and_largest_part,
    test_gallery_and_interpolation,
    test_own_binvox_files,
    test_phone_width,
]


class Context:
    pass


def take_screenshot(ctx, path):
    """The viewer as a person first sees it (seed 1), for the README."""
    driver = chromium_driver(1280, 1040)
    try:
        page = Page(driver, ctx.server.base)
        page.open("/")
        page.wait_for_source("seed 1")
        page.wait_for(lambda: driver.execute_script(
            "return [...document.querySelectorAll('#gallery img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"), "gallery thumbnails")
        driver.execute_script("window.scrollTo(0, 0)")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        driver.save_screenshot(path)
        print(f"screenshot: {path}")
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get(
        "VOXGAN_SERVE", os.path.join(ROOT, ".build", "release", "voxgan-serve")))
    parser.add_argument("--weights", help="weights file (default: $VOXGAN_WEIGHTS or bundled)")
    parser.add_argument("--screenshot", help="also save a screenshot of the viewer here")
    parser.add_argument("--shots", help="folder for screenshots taken during the tests")
    arguments = parser.parse_args()

    if not os.path.exists(arguments.server):
        print(f"browser: voxgan-serve not found at {arguments.server} (build it first)")
        print("browser: 0 passed, 1 failed")
        return 1
    model_arguments, model_name = pick_model(arguments.weights)
    print(f"browser: model {model_name}")

    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="voxgan-browser-") as workdir:
        ctx = Context()
        ctx.workdir = workdir
        ctx.shots = {}
        ctx.server = Server(arguments.server, model_arguments, workdir)
        driver = None
        try:
            driver = chromium_driver()
            ctx.page = Page(driver, ctx.server.base)
            for test in TESTS:
                started = time.time()
                try:
                    test(ctx)
                    passed += 1
                    print(f"PASS {test.__name__} ({time.time() - started:.1f} s)")
                except Exception as error:  # one failing test must not stop the others
                    failed += 1
                    print(f"FAIL {test.__name__} ({time.time() - started:.1f} s): {error}")
                    if not isinstance(error, AssertionError):
                        traceback.print_exc(limit=4)
            if arguments.shots:
                os.makedirs(arguments.shots, exist_ok=True)
                for name, png in ctx.shots.items():
                    with open(os.path.join(arguments.shots, f"{name}.png"), "wb") as f:
                        f.write(png)
            if arguments.screenshot:
                take_screenshot(ctx, arguments.screenshot)
        except Exception as error:
            failed += 1
            print(f"FAIL setup: {error}")
            traceback.print_exc(limit=4)
        finally:
            if driver is not None:
                driver.quit()
            ctx.server.stop()
            if failed:
                print("--- server log (last 30 lines) ---")
                print("".join(open(ctx.server.log_path, errors="replace").readlines()[-30:]))

    print(f"browser: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
