// Side effect only: stops an old Node with one line.
export {};
