/**
 * The chart library on its own (built to dist/browser/livetier-uplot.js, served at
 * /livetier-uplot.js): the host panel loads it the first time it draws the trend chart.
 */
import uPlot from 'uplot';

globalThis.LiveTierUPlot = uPlot;
