FROM golang:1.26 AS build
RUN go build -o /out/app .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER nonroot:nonroot
HEALTHCHECK --interval=30s CMD ["/app", "probe", "live"]
ENTRYPOINT ["/app"]
