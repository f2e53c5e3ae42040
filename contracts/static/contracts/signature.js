// The homeowner draws a signature with a finger or the mouse; on submit it travels as a PNG data URL.
document.querySelectorAll("[data-signature-form]").forEach((form) => {
  const canvas = form.querySelector("canvas");
  const input = form.querySelector("input[name=signature]");
  const context = canvas.getContext("2d");
  let drawing = false;
  let drawn = false;

  context.lineWidth = 3;
  context.lineCap = "round";
  context.strokeStyle = "#111";

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  };

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    context.beginPath();
    context.moveTo(...point(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    context.lineTo(...point(event));
    context.stroke();
    drawn = true;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  form.querySelector("[data-signature-clear]").addEventListener("click", () => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
    input.value = "";
  });
  form.addEventListener("submit", () => {
    input.value = drawn ? canvas.toDataURL("image/png") : "";
  });
});
