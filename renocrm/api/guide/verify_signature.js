// Verifies a RenoCRM webhook in Node.js (18 or later), with the standard library only.
// Pass the raw body exactly as received (a Buffer: e.g. express.raw({ type: "application/json" })), the
// X-RenoCRM-Signature header, and the X-RenoCRM-Delivery header as deliveryId (the v2 signature covers it).
const crypto = require("node:crypto");

function verifySignature(secret, header, body, { deliveryId = "", tolerance = 300 } = {}) {
  const fields = header.split(",").filter((part) => part.includes("=")).map((part) => {
    const at = part.indexOf("=");
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
  });
  const timestamps = fields.filter(([key]) => key === "t").map(([, value]) => value);
  if (timestamps.length !== 1 || !/^\d+$/.test(timestamps[0])) return false;
  const timestamp = Number(timestamps[0]);
  if (Math.abs(Date.now() / 1000 - timestamp) > tolerance) return false; // a replayed request
  const [version, signed] = deliveryId ? ["v2", `${timestamp}.${deliveryId}.`] : ["v1", `${timestamp}.`];
  const expected = crypto.createHmac("sha256", secret).update(signed).update(body).digest();
  // During a secret rotation the header carries two values of each version: either may match.
  return fields.some(([key, value]) => {
    if (key !== version || !/^[0-9a-f]{64}$/.test(value)) return false;
    return crypto.timingSafeEqual(expected, Buffer.from(value, "hex"));
  });
}

module.exports = { verifySignature };
