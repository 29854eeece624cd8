// A QR code as an image the console can show without loosening its content security policy: an SVG in a
// data: URL (img-src allows data:), drawn here so the page needs no script for it.
import QRCode, { type QRCodeToStringOptions } from 'qrcode';

/** Medium error correction and the standard quiet zone: what authenticator apps scan readily. */
export const QR_OPTIONS: QRCodeToStringOptions = { type: 'svg', errorCorrectionLevel: 'M', margin: 4 };

export async function qrCodeDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, QR_OPTIONS);
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
