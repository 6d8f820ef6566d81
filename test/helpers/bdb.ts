// The Berkeley DB and sqlite3 helpers live with imagegen (which builds AlmaLinux 8 databases with them).
export * from "../../imagegen/bdb.js";
