import { mount } from "svelte";
import App from "./App.svelte";
import { api } from "./ipc";
import "./app.css";

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");
const app = mount(App, { target });
// The second animation frame runs after the first one was painted: the release
// benchmark and the package test time the app's start up to this report.
requestAnimationFrame(() => requestAnimationFrame(() => void api.firstFrame()));
export default app;
