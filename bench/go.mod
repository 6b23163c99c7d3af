module github.com/gregorkafka/gregor/bench

go 1.24

require github.com/gregorkafka/gregor v0.0.0

require (
	github.com/klauspost/compress v1.18.0 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
)

replace github.com/gregorkafka/gregor => ../
