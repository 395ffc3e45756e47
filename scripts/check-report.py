#!/usr/bin/env python3
"""Loads a netpol HTML report in headless Chromium (driven by Playwright) and
prints what a test needs, as JSON: the console errors, the load time, the
explanation shown after a click on a cell, and the colour of given cells on a
screenshot of the page.

    check-report.py --chromium /usr/bin/chromium --page report.html \
        [--click FROM TO] [--cell FROM TO ...] [--filter TEXT] [--screenshot out.png]

FROM and TO are pods (namespace/name). Exit status 0 when the page was checked
(whatever it shows: the caller judges), 2 when it could not be.
"""
import argparse
import json
import pathlib
import struct
import sys
import time
import zlib

from playwright.sync_api import sync_playwright


def decode_png(data):
    """The pixels of an 8-bit RGB or RGBA PNG, as rows of bytes (no imaging library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, compressed = 8, b""
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind, body = data[position + 4:position + 8], data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour_type not in (2, 6) or body[12] != 0:
                raise ValueError("only 8-bit, non-interlaced RGB or RGBA")
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            compressed += body
    raw, stride = zlib.decompress(compressed), width * channels
    rows, previous, offset = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + ((left + up) >> 1)) & 255
            elif kind == 4:
                guess = left + up - corner
                distances = (abs(guess - left), abs(guess - up), abs(guess - corner))
                predictor = left if distances[0] <= distances[1] and distances[0] <= distances[2] else up if distances[1] <= distances[2] else corner
                line[x] = (line[x] + predictor) & 255
        rows.append(line)
        previous = line
    return channels, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--page", required=True)
    parser.add_argument("--click", nargs=2, metavar=("FROM", "TO"))
    parser.add_argument("--cell", nargs=2, action="append", default=[], metavar=("FROM", "TO"))
    parser.add_argument("--filter")
    parser.add_argument("--screenshot")
    arguments = parser.parse_args()

    result = {"consoleErrors": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=arguments.chromium)
        page = browser.new_page(viewport={"width": 1000, "height": 700}, device_scale_factor=1)
        page.on("console", lambda message: message.type == "error" and result["consoleErrors"].append(message.text))
        page.on("pageerror", lambda error: result["consoleErrors"].append(str(error)))
        started = time.monotonic()
        page.goto(pathlib.Path(arguments.page).resolve().as_uri(), wait_until="load")
        page.wait_for_function("window.netpolReport !== undefined", timeout=120_000)
        result["loadSeconds"] = round(time.monotonic() - started, 3)
        result["podCount"] = page.evaluate("document.getElementById('count').textContent")
        if arguments.filter is not None:
            page.fill("#filter", arguments.filter)
            result["filteredCount"] = page.evaluate("document.getElementById('count').textContent")
        if arguments.click:
            centre = page.evaluate("([a, b]) => window.netpolReport.cellCentre(a, b)", arguments.click)
            if centre is None:
                raise SystemExit("check-report: no cell %s -> %s on the page" % tuple(arguments.click))
            page.mouse.click(centre["x"], centre["y"])
            result["explanation"] = page.inner_text("#explanation")
        if arguments.cell:
            png = page.screenshot(path=arguments.screenshot, full_page=False)
            channels, rows = decode_png(png)
            result["cells"] = []
            for source, destination in arguments.cell:
                centre = page.evaluate("([a, b]) => window.netpolReport.cellCentre(a, b)", [source, destination])
                if centre is None:
                    result["cells"].append({"from": source, "to": destination, "colour": None})
                    continue
                x, y = int(centre["x"]), int(centre["y"])
                pixel = rows[y][x * channels:x * channels + 3]
                result["cells"].append({"from": source, "to": destination, "colour": "#%02x%02x%02x" % tuple(pixel)})
        browser.close()
    print(json.dumps(result))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # reported to the test as it is, exit status 2
        print("check-report: %s" % error, file=sys.stderr)
        sys.exit(2)
