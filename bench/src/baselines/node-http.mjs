// Baseline 2: bare node:http + pg.
import { createServer } from 'node:http';
import { params, pool, port, sqlText } from './shared.mjs';

createServer(async (req, res) => {
  const { rows } = await pool.query(sqlText, params(req.url));
  const body = JSON.stringify({ items: rows.slice(0, 50) });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}).listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
