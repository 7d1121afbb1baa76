// The article editor: upload an image and insert its Markdown where the cursor is.
document.addEventListener("change", async (event) => {
  const input = event.target;
  if (!input.matches("input[data-upload-url]") || !input.files.length) return;
  const status = document.querySelector(".kb-upload-status");
  const body = new FormData();
  body.append("image", input.files[0]);
  status.textContent = "Uploading…";
  const response = await fetch(input.dataset.uploadUrl, {
    method: "POST", body, headers: { "X-CSRFToken": input.dataset.csrf }, credentials: "same-origin",
  });
  const answer = await response.json().catch(() => ({ detail: "The upload failed." }));
  input.value = "";
  if (!response.ok) { status.textContent = answer.detail || "The upload failed."; return; }
  const source = document.getElementById("id_body");
  const at = source.selectionStart ?? source.value.length;
  const snippet = `\n${answer.markdown}\n`;
  source.value = source.value.slice(0, at) + snippet + source.value.slice(source.selectionEnd ?? at);
  source.dispatchEvent(new Event("keyup"));
  status.textContent = "Image inserted.";
});
