// Shows the daemon's health; the full dashboard builds on the same public API.
"use strict";
async function showHealth() {
  const target = document.getElementById("health");
  try {
    const response = await fetch("/v1/health");
    const body = await response.json();
    target.textContent = `${body.status} · version ${body.version} · up ${body.uptime_s} s`;
  } catch (error) {
    target.textContent = `vsquared unreachable: ${error.message}`;
  }
}
showHealth();
