// Colours for the spectrogram under the waveform: matplotlib's magma (the
// same nine stops the Rust side uses for the report's pictures), reversed on
// a light page so quiet is the page colour and loud is dark.

const MAGMA: [number, number, number][] = [
  [0x00, 0x00, 0x04],
  [0x1c, 0x10, 0x44],
  [0x4f, 0x12, 0x7b],
  [0x81, 0x25, 0x81],
  [0xb5, 0x36, 0x7a],
  [0xe5, 0x50, 0x64],
  [0xfb, 0x87, 0x61],
  [0xfe, 0xc2, 0x87],
  [0xfc, 0xfd, 0xbf],
];

/** Magma at `t` in 0..1, linear between its stops. */
export function magma(t: number): [number, number, number] {
  const scaled = Math.max(0, Math.min(1, t)) * (MAGMA.length - 1);
  const i = Math.min(Math.floor(scaled), MAGMA.length - 2);
  const frac = scaled - i;
  const a = MAGMA[i] ?? MAGMA[0]!;
  const b = MAGMA[i + 1] ?? a;
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * frac)) as [number, number, number];
}

/** RGBA pixels for `levels` (0–255, row-major, top row the highest frequency). */
export function paint(levels: number[], dark: boolean): Uint8ClampedArray {
  const palette = Array.from({ length: 256 }, (_, level) => magma((dark ? level : 255 - level) / 255));
  const out = new Uint8ClampedArray(levels.length * 4);
  levels.forEach((level, i) => {
    const [r, g, b] = palette[level] ?? [0, 0, 0];
    out.set([r, g, b, 255], i * 4);
  });
  return out;
}
