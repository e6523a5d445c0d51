#!/usr/bin/env python3
"""Renders a terminal capture with ANSI colours (`tmux capture-pane -e -p`) to a PNG.

Usage: ansi_to_png.py CAPTURE.txt OUT.png COLUMNS ROWS
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

# The 16 ANSI colours (a calm xterm-like palette), then 256-colour and true colour as sent.
PALETTE = [
    (0x1d, 0x1f, 0x21), (0xcc, 0x66, 0x66), (0x8c, 0xb3, 0x6b), (0xe0, 0xb0, 0x5c),
    (0x6f, 0x98, 0xc8), (0xb2, 0x94, 0xbb), (0x6a, 0xb5, 0xb0), (0xc5, 0xc8, 0xc6),
    (0x66, 0x69, 0x6b), (0xe5, 0x7e, 0x7e), (0xa8, 0xd0, 0x86), (0xf0, 0xc6, 0x74),
    (0x8f, 0xb4, 0xe0), (0xcc, 0xab, 0xd4), (0x8a, 0xd4, 0xce), (0xf0, 0xf0, 0xf0),
]
FG, BG = PALETTE[7], (0x16, 0x18, 0x1a)
FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
LOWER_EIGHTHS = {"▁": 1, "▂": 2, "▃": 3, "▄": 4, "▅": 5, "▆": 6, "▇": 7, "█": 8}


def colour_256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def parse(text, cols, rows):
    """A grid of (char, fg, bg, bold) cells."""
    grid = [[(" ", FG, BG, False) for _ in range(cols)] for _ in range(rows)]
    for y, line in enumerate(text.split("\n")[:rows]):
        fg, bg, bold, reverse = FG, BG, False, False
        x = 0
        for token in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if token.startswith("\x1b["):
                codes = [int(c) if c.isdigit() else 0 for c in token[2:-1].replace(":", ";").split(";")] or [0]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        fg, bg, bold, reverse = FG, BG, False, False
                    elif c == 1:
                        bold = True
                    elif c == 22:
                        bold = False
                    elif c == 7:
                        reverse = True
                    elif c == 27:
                        reverse = False
                    elif 30 <= c <= 37:
                        fg = PALETTE[c - 30]
                    elif 90 <= c <= 97:
                        fg = PALETTE[c - 90 + 8]
                    elif 40 <= c <= 47:
                        bg = PALETTE[c - 40]
                    elif 100 <= c <= 107:
                        bg = PALETTE[c - 100 + 8]
                    elif c == 39:
                        fg = FG
                    elif c == 49:
                        bg = BG
                    elif c in (38, 48) and i + 1 < len(codes):
                        if codes[i + 1] == 5 and i + 2 < len(codes):
                            col = colour_256(codes[i + 2])
                            i += 2
                        elif codes[i + 1] == 2 and i + 4 < len(codes):
                            col = tuple(codes[i + 2:i + 5])
                            i += 4
                        else:
                            col = FG if c == 38 else BG
                        if c == 38:
                            fg = col
                        else:
                            bg = col
                    i += 1
                continue
            for ch in token:
                if x >= cols:
                    break
                f, b = (bg, fg) if reverse else (fg, bg)
                if bold and f in PALETTE[:8]:
                    f = PALETTE[PALETTE.index(f) + 8]
                grid[y][x] = (ch, f, b, bold)
                x += 1
    return grid


def main():
    capture, out, cols, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    text = open(capture, encoding="utf-8", errors="replace").read()
    try:
        regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", 15)
        bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", 15)
    except OSError:
        regular = bold = ImageFont.load_default()
    cw = int(round(regular.getlength("M")))
    ch = 19
    pad = 10
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(parse(text, cols, rows)):
        for x, (c, f, b, is_bold) in enumerate(row):
            px, py = pad + x * cw, pad + y * ch
            if b != BG:
                draw.rectangle([px, py, px + cw - 1, py + ch - 1], fill=b)
            if c in LOWER_EIGHTHS:
                # Block elements as rectangles: font glyphs leave gaps between rows.
                h = ch * LOWER_EIGHTHS[c] // 8
                draw.rectangle([px, py + ch - h, px + cw - 1, py + ch - 1], fill=f)
            elif c == "▀":
                draw.rectangle([px, py, px + cw - 1, py + ch // 2 - 1], fill=f)
            elif c != " ":
                draw.text((px, py + 1), c, font=bold if is_bold else regular, fill=f)
    img.save(out)


if __name__ == "__main__":
    main()
