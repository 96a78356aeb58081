// Baseline 1: bare Express 5 + pg, answering with res.json.
import express from 'express';
import { params, pool, port, sqlText } from './shared.mjs';

const app = express();
app.get('/products', async (req, res) => {
  const { rows } = await pool.query(sqlText, params(req.url));
  res.json({ items: rows.slice(0, 50) });
});
app.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
